-- migrate:up
CREATE TABLE t (id INTEGER);
-- migrate:down
DROP TABLE t;
-- migrate:up postgres
CREATE TABLE t (id bigserial);
-- migrate:down mysql transaction:false
DROP TABLE t;
