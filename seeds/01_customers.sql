Sample customers. Columns are named without the camel-case timestamps, which
default to the current time, so one text loads the same on every database.

-- migrate:up
INSERT INTO customers (uuid, firstname, lastname, age) VALUES
    ('8b9c2f2a-6f1e-11ee-8c99-0242ac120002', 'Jack',  'Davis',    37),
    ('8b9c3196-6f1e-11ee-8c99-0242ac120002', 'Mary',  'Taylor',   41),
    ('8b9c32fe-6f1e-11ee-8c99-0242ac120002', 'Peter', 'Thomas',   26),
    ('8b9c3452-6f1e-11ee-8c99-0242ac120002', 'Amos',  'Nelson',   19),
    ('8b9c35a6-6f1e-11ee-8c99-0242ac120002', 'Craig', 'White',    53),
    ('8b9c36f0-6f1e-11ee-8c99-0242ac120002', 'Laura', 'Lewis',    28);

-- migrate:down
DELETE FROM customers WHERE uuid IN (
    '8b9c2f2a-6f1e-11ee-8c99-0242ac120002', '8b9c3196-6f1e-11ee-8c99-0242ac120002',
    '8b9c32fe-6f1e-11ee-8c99-0242ac120002', '8b9c3452-6f1e-11ee-8c99-0242ac120002',
    '8b9c35a6-6f1e-11ee-8c99-0242ac120002', '8b9c36f0-6f1e-11ee-8c99-0242ac120002');
