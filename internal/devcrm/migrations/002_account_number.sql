-- Account.AccountNumber (Salesforce: Text(40)), which Parley's queues can
-- search by the digits a caller keyed in. Compared without regard to ASCII
-- case, as SOQL's = does.
ALTER TABLE "Account" ADD COLUMN "AccountNumber" TEXT COLLATE NOCASE;
CREATE INDEX account_number ON "Account" ("AccountNumber");
