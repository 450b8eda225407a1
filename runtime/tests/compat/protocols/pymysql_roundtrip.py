import datetime, decimal
import pymysql, pymysql.cursors
con = pymysql.connect(host="127.0.0.1", port=MYSQL_PORT, user=MYSQL_USER, password=MYSQL_PASSWORD,
                      database="compat", connect_timeout=10, charset="utf8mb4")
with con.cursor() as cur:
    cur.execute("CREATE TEMPORARY TABLE job (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40), cost DECIMAL(8,2), day DATE, note TEXT)")
    rows = [("backup", decimal.Decimal("1.50"), datetime.date(2025, 1, 2), "nightly"),
            ("report", decimal.Decimal("12.25"), datetime.date(2025, 1, 3), "it's \"quoted\""),
            ("sync", decimal.Decimal("0.10"), None, "ünïcode ✓")]
    print(cur.executemany("INSERT INTO job (name, cost, day, note) VALUES (%s, %s, %s, %s)", rows))
    con.commit()
    cur.execute("SELECT name, cost, day, note FROM job WHERE cost > %s ORDER BY id", (1,))
    print(cur.fetchall())
    cur.execute("SELECT SUM(cost), COUNT(*) FROM job")
    print(cur.fetchone(), [d[0] for d in cur.description])
with con.cursor(pymysql.cursors.DictCursor) as cur:
    cur.execute("SELECT id, name FROM job WHERE name = %(name)s", {"name": "sync"})
    print(cur.fetchall())
con.begin()
with con.cursor() as cur:
    cur.execute("DELETE FROM job")
con.rollback()
with con.cursor() as cur:
    cur.execute("SELECT COUNT(*) FROM job")
    print(cur.fetchone()[0])
    try:
        cur.execute("SELECT * FROM missing_table")
    except pymysql.err.ProgrammingError as e:
        print("error:", e.args[0])
print(con.ping() is None or True, con.open)
con.close()
try:
    pymysql.connect(host="127.0.0.1", port=MYSQL_PORT, user=MYSQL_USER, password="wrong", connect_timeout=10)
except pymysql.err.OperationalError as e:
    print("error:", e.args[0])
