Addresses, one per customer: Address.belongsTo(Customer, {foreignKey:
'fk_customerid', targetKey: 'uuid'}) and Customer.hasOne(Address). The
foreign key is UNIQUE, which is what makes the association one-to-one, and
uses Sequelize's defaults for belongsTo: ON DELETE SET NULL, ON UPDATE CASCADE.

-- migrate:up
CREATE TABLE addresses (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    street        VARCHAR(255),
    phone         VARCHAR(255),
    fk_customerid CHAR(36) UNIQUE
                  REFERENCES customers (uuid) ON DELETE SET NULL ON UPDATE CASCADE,
    "createdAt"   DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt"   DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- migrate:down
DROP TABLE addresses;

-- migrate:up postgres
CREATE TABLE addresses (
    id            SERIAL PRIMARY KEY,
    street        VARCHAR(255),
    phone         VARCHAR(255),
    fk_customerid uuid UNIQUE
                  REFERENCES customers (uuid) ON DELETE SET NULL ON UPDATE CASCADE,
    "createdAt"   TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt"   TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- migrate:up mysql
CREATE TABLE addresses (
    id            INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    street        VARCHAR(255),
    phone         VARCHAR(255),
    fk_customerid CHAR(36) BINARY UNIQUE,
    createdAt     DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updatedAt     DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT addresses_fk_customerid_fkey FOREIGN KEY (fk_customerid)
        REFERENCES customers (uuid) ON DELETE SET NULL ON UPDATE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
