-- +goose Up
-- The domain roles have USAGE on this schema so that they can call publish,
-- which also lets them use whatever here Postgres grants to PUBLIC by
-- default: every function and type. So River's river_job_state_in_bitmask
-- was executable by every domain, and its enum usable in their tables (a
-- column of an events type would block events' own ALTER TYPE and DROP).
-- The default privileges take EXECUTE and USAGE away from PUBLIC for every
-- function, procedure and type the events role creates from now on (River's
-- next migrations included), so closing them no longer depends on each
-- migration remembering a REVOKE; publish keeps its explicit grant.
ALTER DEFAULT PRIVILEGES FOR ROLE nova_events REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE nova_events REVOKE USAGE ON TYPES FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION events.river_job_state_in_bitmask(bit, events.river_job_state) FROM PUBLIC;
REVOKE USAGE ON TYPE events.river_job_state FROM PUBLIC;

-- +goose Down
GRANT USAGE ON TYPE events.river_job_state TO PUBLIC;
GRANT EXECUTE ON FUNCTION events.river_job_state_in_bitmask(bit, events.river_job_state) TO PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE nova_events GRANT USAGE ON TYPES TO PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE nova_events GRANT EXECUTE ON FUNCTIONS TO PUBLIC;
