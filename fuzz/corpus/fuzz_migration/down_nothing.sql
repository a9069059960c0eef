-- migrate:up
CREATE INDEX i ON t (x);
-- migrate:down
DROP INDEX i;
-- migrate:down sqlite nothing

-- migrate:down mysql nothing transaction:false
