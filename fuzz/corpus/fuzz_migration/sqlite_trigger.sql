-- migrate:up
CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET x = CASE WHEN 1 THEN 2 ELSE 3 END; END;
SELECT [weird;name], `x;y`, "z;w";
-- migrate:down
