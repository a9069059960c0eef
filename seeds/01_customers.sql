Sample customers. Columns are named without the camel-case timestamps, which
default to the current time, so one text loads the same on every database.
Each uuid is ${uuid:KEY}: made once per run (time-based, like Sequelize's
UUIDV1), the same in 02_addresses.sql, so every address links to its customer.
The down section uses the same keys: 'seed --undo' runs it with the UUIDs
of the run that applied the seed.

-- migrate:up
INSERT INTO customers (uuid, firstname, lastname, age) VALUES
    ('${uuid:jack}',  'Jack',  'Davis',    37),
    ('${uuid:mary}',  'Mary',  'Taylor',   41),
    ('${uuid:peter}', 'Peter', 'Thomas',   26),
    ('${uuid:amos}',  'Amos',  'Nelson',   19),
    ('${uuid:craig}', 'Craig', 'White',    53),
    ('${uuid:laura}', 'Laura', 'Lewis',    28);

-- migrate:down
DELETE FROM customers WHERE uuid IN ('${uuid:jack}', '${uuid:mary}', '${uuid:peter}',
    '${uuid:amos}', '${uuid:craig}', '${uuid:laura}');
