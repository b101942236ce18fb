-- Accounts (issue 15): a person is one user across organisations, but what an organisation's admin
-- does to them acts on the membership only; invitations instead of answers that tell whether an
-- address has an account somewhere; sign-in throttling shared by every server process.

-- Disabled in this organisation only (users.disabled_at stays the operator's, for every organisation).
ALTER TABLE memberships ADD COLUMN disabled_at timestamptz;

-- An admin adds a person by inviting the address: the same answer whether it has an account on the
-- instance or not. Only the SHA-256 of the one-time token is stored; accepting it once adds the
-- membership (signing in with the existing password, or choosing one for a new account).
CREATE TABLE invitations (
  token_hash      text PRIMARY KEY,
  organisation_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  email           text NOT NULL CHECK (email = lower(email) AND email ~ '^[^\s@]+@[^\s@]+$'),
  role            text NOT NULL CHECK (role IN ('admin', 'collector', 'viewer')),
  -- For a new account only: an existing person keeps the name and language they have.
  name            text,
  language        text NOT NULL DEFAULT 'fr' CHECK (language IN ('fr', 'en')),
  invited_by      uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  accepted_at     timestamptz
);
CREATE INDEX invitations_organisation_idx ON invitations (organisation_id, created_at);

-- Sign-in attempts per account ("account:<sha256 of the address>") and per client address
-- ("address:<ip>"): src/auth/throttle.ts.
CREATE TABLE auth_throttle (
  key             text PRIMARY KEY,
  failures        integer NOT NULL CHECK (failures >= 0),
  last_failure_at timestamptz NOT NULL,
  blocked_until   timestamptz
);
