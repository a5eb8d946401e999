-- Where each user takes calls: 'browser' (the panel's softphone), 'sip'
-- (a registered phone or a static contact) or 'external' (external_number,
-- E.164, called through the tenant's outbound trunk). Users that existed
-- before had only SIP phones: those with a SIP username or a static contact
-- stay on 'sip' so their phones keep ringing; the others get the browser.
ALTER TABLE users ADD COLUMN endpoint TEXT NOT NULL DEFAULT 'browser';
ALTER TABLE users ADD COLUMN external_number TEXT NOT NULL DEFAULT '';
UPDATE users SET endpoint = 'sip' WHERE sip_username <> '' OR static_contact <> '';
