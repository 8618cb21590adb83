-- +goose Up
-- Events this domain has applied, recorded in the same transaction as their
-- effect so that a redelivered event changes nothing.
CREATE TABLE content.event_inbox (
    consumer   text        NOT NULL,
    event_id   uuid        NOT NULL,
    handled_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- +goose Down
DROP TABLE content.event_inbox;
