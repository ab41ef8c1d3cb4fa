DROP TABLE programmes;
DROP FUNCTION search_fold(text);
DROP EXTENSION IF EXISTS unaccent;
