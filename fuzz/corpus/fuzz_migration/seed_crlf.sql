INSERT INTO items (id) VALUES (1);
INSERT INTO items (id) VALUES (2);
