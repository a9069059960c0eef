Customers of the Sequelize one-to-one tutorial: the model `customer` with a
uuid primary key (Sequelize's UUIDV1 default fills it), default timestamps,
and the default pluralised table name.

-- migrate:up
CREATE TABLE customers (
    uuid        CHAR(36) NOT NULL PRIMARY KEY,
    firstname   VARCHAR(255),
    lastname    VARCHAR(255),
    age         INTEGER,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- migrate:down
DROP TABLE customers;

-- migrate:up postgres
CREATE TABLE customers (
    uuid        uuid NOT NULL PRIMARY KEY,
    firstname   VARCHAR(255),
    lastname    VARCHAR(255),
    age         INTEGER,
    "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- migrate:up mysql
CREATE TABLE customers (
    uuid        CHAR(36) BINARY NOT NULL PRIMARY KEY,
    firstname   VARCHAR(255),
    lastname    VARCHAR(255),
    age         INTEGER,
    createdAt   DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updatedAt   DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
