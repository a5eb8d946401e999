// Package devcrm is the bundled Salesforce-compatible CRM emulator. It lets
// anyone try and test Parley with no Salesforce account: Parley's Salesforce
// connector talks to devcrm with exactly the code it uses for a real org.
//
// A Server runs on its own listener, so it has its own origin, and keeps its
// data in its own SQLite file (WAL, busy timeout, foreign keys). A new
// database is seeded once, from CSV files in Salesforce export format
// (DefaultSeed, or Config.SeedDir); restarting on the same file keeps
// everything. ImportCSV loads more files into a running server.
//
// # What it emulates
//
//   - Record Ids as Salesforce makes them: a key prefix per object (001
//     Account, 003 Contact, 00Q Lead, 00T Task, 005 User), 15 case-sensitive
//     base62 characters, and the 18-character form with the case checksum.
//     Ids are stored in 18 characters; 15 or 18 are accepted wherever an Id
//     is read.
//   - The REST paths and JSON shapes under /services/data/vNN.N/ for every
//     version from 50.0 up to Config.APIVersion: the version list, sobject
//     create, read, update and delete for Account, Contact, Lead and Task
//     (User is read-only), SOQL /query and SOSL /search subsets, /limits.
//   - Salesforce's error arrays ([{"message","errorCode","fields"}]) with
//     the same codes and HTTP statuses: INVALID_SESSION_ID, NOT_FOUND,
//     INVALID_FIELD, INVALID_TYPE, MALFORMED_QUERY, MALFORMED_SEARCH,
//     JSON_PARSER_ERROR, INVALID_TYPE_ON_FIELD_IN_RECORD, STRING_TOO_LONG,
//     REQUIRED_FIELD_MISSING, FIELD_INTEGRITY_EXCEPTION, MALFORMED_ID,
//     INVALID_CROSS_REFERENCE_KEY, INVALID_FIELD_FOR_INSERT_UPDATE,
//     INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, INVALID_EMAIL_ADDRESS,
//     REQUEST_LIMIT_EXCEEDED, METHOD_NOT_ALLOWED.
//   - Sforce-Limit-Info: api-usage=N/M on every REST response, counted per
//     UTC day in memory.
//   - OAuth 2.0 at /services/oauth2/token: the JWT bearer grant (RS256,
//     verified with the connected app's certificate or public key) and the
//     client credentials grant (run-as user per app). Access tokens are
//     random, stored only as SHA-256 hashes, and expire (Config.TokenTTL).
//   - An OpenID provider (github.com/zitadel/oidc/v3/pkg/op) at Salesforce's
//     paths: discovery, /services/oauth2/authorize (sign-in and one-time
//     consent pages), /services/oauth2/token for the authorization code
//     (PKCE) and refresh token (rotation) grants, /services/oauth2/userinfo,
//     /services/oauth2/revoke, /services/oauth2/introspect and /id/keys
//     (RS256, the key kept in the database). Its id_token's sub is the
//     identity URL Issuer()/id/{orgId}/{userId}, which answers GET with a
//     bearer token as Salesforce's identity service. Connected apps come from
//     CreateApp or Setup's App Manager (/setup/connectedapps). Config.Sandbox
//     gives it the sandbox issuer URL()+SandboxPath.
//   - SOSL phone search across formats: a phone field matches a term when
//     their digits are equal, or one ends with the other and the shorter has
//     at least ten digits; an extension ("x12") is not part of the number.
//     E-mail search ignores case; name search matches whole words.
//   - Fault injection for tests (Fault): 503, 401, 403 or a delay on the
//     next calls.
//
// # Pages and Open CTI
//
// Users sign in at /login (SetUserPassword sets their passwords). The
// Lightning-like app (/lightning/...), the Service Console (/console) and
// Classic record pages (/{Id}) host the Open CTI softphone of the user's call
// center (ImportCallCenter, AssignCallCenterUsers; Setup pages at
// /setup/callcenters, for administrators: SetAdministrator) and answer it over postMessage from web/host.js.
// devcrm's own builds of opencti.js and interaction.js are served under
// /support/api/NN.0/. See docs/architecture.md, "devcrm's pages".
//
// # What it does not
//
// devcrm serves the subset Parley uses, and says so when asked for more:
// SOQL has no OR, IN, LIKE, ranges, aggregates other than COUNT(), OFFSET,
// subqueries or relationships deeper than one parent (Account.Name); query
// results come in one page (done is always true). SOSL has no WITH clauses,
// no spell correction and no relevance ranking: results come per object in
// the RETURNING order, then in insertion order; a search reads every record
// of each object it returns, which suits thousands of records, not millions.
// There are no custom objects
// or fields, describe calls beyond basic object information, composite or
// bulk APIs, external-Id upserts, sharing rules, triggers, validation rules
// or field history. The password and implicit grants,
// private_key_jwt client authentication and OpenID logout are not served.
package devcrm
