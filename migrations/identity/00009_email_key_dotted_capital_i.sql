-- +goose Up
-- Email keys are now composed (NFC) before they are lower-cased as well as
-- after. Lower-casing turns a precomposed capital I with dot above (U+0130)
-- into a plain i but keeps the dot of a capital I followed by the combining
-- dot U+0307, so two spellings of one address had two keys; a key changes
-- only where the address, decomposed, has a capital I with a U+0307 after it.
-- Postgres's lower() is not the one the keys were made with, so the new key
-- is rebuilt from the old one: the address, decomposed, gives where each
-- U+0307 stands among the other characters, the old key (decomposed, without
-- its U+0307s) gives those characters lower-cased, and a U+0307 is dropped
-- exactly where composing the address joins it to a capital I into U+0130.
-- An account's key is rebuilt only if it was made from its address by the
-- old rule: composed, with the address's U+0307s less those of its U+0130s,
-- in the same places. As in identity/00005, where two accounts would end
-- with one key, the one that already has it, else the older one, takes it;
-- the other keeps its old key and its owner signs in by username until
-- support merges or renames it.
WITH candidates AS (
    SELECT c.user_id, c.created_at, c.email_key,
           normalize(c.email, NFD) AS email_nfd,
           regexp_split_to_array(replace(normalize(c.email_key, NFD), U&'\0307', ''), '') AS key_chars
    FROM identity.credentials c
    WHERE strpos(normalize(c.email, NFD), 'I') > 0
      AND strpos(normalize(c.email, NFD), U&'\0307') > 0
      AND c.email_key IS NFC NORMALIZED
      AND regexp_replace(normalize(c.email_key, NFD), U&'[^\0307]', '.', 'g')
        = regexp_replace(normalize(replace(c.email, U&'\0130', 'I'), NFD), U&'[^\0307]', '.', 'g')
), rekeyed AS (
    SELECT k.user_id, k.created_at, k.email_key, normalize((
        SELECT string_agg(CASE
                WHEN s.ch <> U&'\0307' THEN k.key_chars[s.others]
                -- this U+0307 composes with a capital I into U+0130
                WHEN length(normalize(left(k.email_nfd, s.n::int), NFC))
                     - length(replace(normalize(left(k.email_nfd, s.n::int), NFC), U&'\0130', ''))
                   > length(normalize(left(k.email_nfd, s.n::int - 1), NFC))
                     - length(replace(normalize(left(k.email_nfd, s.n::int - 1), NFC), U&'\0130', ''))
                THEN ''
                ELSE s.ch
            END, '' ORDER BY s.n)
        FROM (
            SELECT t.ch, t.n,
                   count(*) FILTER (WHERE t.ch <> U&'\0307') OVER (ORDER BY t.n) AS others
            FROM regexp_split_to_table(k.email_nfd, '') WITH ORDINALITY AS t(ch, n)
        ) s
    ), NFC) AS new_key
    FROM candidates k
)
UPDATE identity.credentials c
SET email_key = r.new_key
FROM rekeyed r
WHERE c.user_id = r.user_id
  AND r.new_key <> r.email_key
  AND NOT EXISTS (
    SELECT 1 FROM identity.credentials o WHERE o.email_key = r.new_key)
  AND NOT EXISTS (
    SELECT 1 FROM rekeyed o
    WHERE o.user_id <> r.user_id
      AND o.new_key = r.new_key
      AND o.new_key <> o.email_key
      AND (o.created_at, o.user_id) < (r.created_at, r.user_id));

-- +goose Down
-- Keys composed before lower-casing are still lower-cased, composed keys:
-- nothing to undo.
SELECT 1;
