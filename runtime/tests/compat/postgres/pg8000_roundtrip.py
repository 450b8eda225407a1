import datetime, decimal
import pg8000.native
con = pg8000.native.Connection(PG_USER, host=PG_HOST, port=PG_PORT, database=PG_DATABASE, password=PG_PASSWORD, timeout=10)
con.run("CREATE TEMPORARY TABLE job (id serial PRIMARY KEY, name text, cost numeric(8,2), day date, meta jsonb)")
for name, cost in [("backup", "1.50"), ("report", "12.25"), ("sync", "0.10")]:
    con.run("INSERT INTO job (name, cost, day, meta) VALUES (:n, :c, :d, :m)",
            n=name, c=decimal.Decimal(cost), d=datetime.date(2025, 1, 2), m={"by": name[:1]})
print(con.run("SELECT name, cost, day, meta FROM job WHERE cost > :min ORDER BY id", min=1))
print(con.run("SELECT sum(cost), count(*) FROM job"), [c["name"] for c in con.columns])
con.run("START TRANSACTION")
con.run("DELETE FROM job")
con.run("ROLLBACK")
print(con.run("SELECT count(*) FROM job")[0][0])
try:
    con.run("SELECT * FROM missing_table")
except pg8000.native.DatabaseError as e:
    print("error:", e.args[0]["C"], e.args[0]["M"])
con.close()
