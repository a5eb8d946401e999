-- The CRM origins allowed to frame a tenant's agent panel (a JSON array of
-- canonical origins such as "https://acme.lightning.force.com").
ALTER TABLE tenants ADD COLUMN crm_origins TEXT NOT NULL DEFAULT '[]';
