-- +goose Up
-- When each signing key first signed, as every replica sees it: the previous
-- key's tokens are accepted only if issued before the current key took over
-- (plus one access-token lifetime), however often replicas restart after.
CREATE TABLE identity.signing_keys (
    kid           text        PRIMARY KEY,
    first_used_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE identity.signing_keys;
