-- +goose Up
-- The append-only event log. Domains may only insert here.
CREATE TABLE events.domain_events (
    id          uuid        PRIMARY KEY,
    topic       text        NOT NULL,
    version     int         NOT NULL DEFAULT 1,
    payload     jsonb       NOT NULL,
    producer    text        NOT NULL,
    request_id  text,
    occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX domain_events_topic_occurred ON events.domain_events (topic, occurred_at);

CREATE TABLE events.event_subscriptions (
    consumer      text        NOT NULL,
    topic         text        NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, topic)
);

CREATE TABLE events.dead_letter_queue (
    id        bigserial   PRIMARY KEY,
    event_id  uuid        NOT NULL REFERENCES events.domain_events (id),
    consumer  text        NOT NULL,
    topic     text        NOT NULL,
    attempts  int         NOT NULL,
    error     text        NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE events.dead_letter_queue;
DROP TABLE events.event_subscriptions;
DROP TABLE events.domain_events;
