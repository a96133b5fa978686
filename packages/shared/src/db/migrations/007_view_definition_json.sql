-- A view's definition as its author wrote it: json keeps the order of tables and columns (jsonb sorts
-- keys by length), and that order is the order queries return columns in and the API shows them.
alter table views alter column definition type json using definition::json;
