from sqlalchemy import create_engine, MetaData, Table, Column, Integer, String, select, func, insert
engine = create_engine("sqlite:///:memory:")
meta = MetaData()
users = Table("users", meta, Column("id", Integer, primary_key=True), Column("name", String(30)),
              Column("team", String(10)))
meta.create_all(engine)
with engine.begin() as conn:
    conn.execute(insert(users), [{"name": "ada", "team": "a"}, {"name": "bob", "team": "b"},
                                 {"name": "cy", "team": "a"}])
with engine.connect() as conn:
    q = select(users.c.team, func.count()).group_by(users.c.team).order_by(users.c.team)
    print(conn.execute(q).all())
    print(conn.execute(select(users.c.name).where(users.c.name.like("%a%"))).scalars().all())
print(str(select(users).where(users.c.id > 1)).replace("\n", " "))
