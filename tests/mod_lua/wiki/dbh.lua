-- Wiki "freeswitch.Dbh" example, run with `lua dbh.lua` (it writes to stream).
-- Adjustment: of the page's alternative handle lines the sqlite://my_db one is used (the
-- ODBC ones need data sources the test machine does not define).
 local dbh = freeswitch.Dbh("sqlite://my_db") -- sqlite database in subdirectory "db"
 
 assert(dbh:connected()) -- exits the script if we didn't connect properly
 
 dbh:test_reactive("SELECT * FROM my_table",
                   "DROP TABLE my_table",
                   "CREATE TABLE my_table (id INTEGER(8), name VARCHAR(255))")
 
 dbh:query("INSERT INTO my_table VALUES(1, 'foo')") -- populate the table
 dbh:query("INSERT INTO my_table VALUES(2, 'bar')") -- with some test data
 
 dbh:query("SELECT id, name FROM my_table", function(row)
   stream:write(string.format("%5s : %s\n", row.id, row.name))
 end)
 
 dbh:query("UPDATE my_table SET name = 'changed'")
 stream:write("Affected rows: " .. dbh:affected_rows() .. "\n")
 
 dbh:release() -- optional
