-- Up Migration
CREATE TABLE kit_test_notes (id serial PRIMARY KEY, body text NOT NULL);

-- Down Migration
DROP TABLE kit_test_notes;
