-- +goose Up
-- Email keys are lower-cased and, from now on, in Unicode's composed form
-- (NFC), so that an accent typed precomposed or combining is one address.
-- Existing keys are brought to that form. Where two accounts' keys differ
-- only in normalization, the account whose key is already composed (else
-- the older one) takes the composed key; the other keeps its old key, so
-- its owner signs in by username until support merges or renames it.
UPDATE identity.credentials c
SET email_key = normalize(c.email_key, NFC)
WHERE c.email_key IS NOT NFC NORMALIZED
  AND NOT EXISTS (
    SELECT 1 FROM identity.credentials o
    WHERE o.user_id <> c.user_id
      AND normalize(o.email_key, NFC) = normalize(c.email_key, NFC)
      AND (o.email_key IS NFC NORMALIZED OR (o.created_at, o.user_id) < (c.created_at, c.user_id)));

-- +goose Down
-- Composed keys are still lower-cased keys: nothing to undo.
SELECT 1;
