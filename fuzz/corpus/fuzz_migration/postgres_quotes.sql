-- migrate:up
CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN NEW.x := 1; RETURN NEW; END; $body$ LANGUAGE plpgsql;
DO $$ BEGIN PERFORM 1; END $$;
SELECT E'a\';b', 'it''s;';
/* nested /* comment; */ still; */ SELECT 1;
