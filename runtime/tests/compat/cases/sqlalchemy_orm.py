from sqlalchemy import create_engine, ForeignKey, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, Session

class Base(DeclarativeBase):
    pass

class Author(Base):
    __tablename__ = "author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    books: Mapped[list["Book"]] = relationship(back_populates="author", order_by="Book.title")

class Book(Base):
    __tablename__ = "book"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
    author: Mapped[Author] = relationship(back_populates="books")

engine = create_engine("sqlite://")
Base.metadata.create_all(engine)
with Session(engine) as s:
    s.add_all([Author(name="Le Guin", books=[Book(title="The Dispossessed"), Book(title="Lathe of Heaven")]),
               Author(name="Lem", books=[Book(title="Solaris")])])
    s.commit()
    for a in s.scalars(select(Author).order_by(Author.name)):
        print(a.name, [b.title for b in a.books])
    print(s.scalar(select(Book.title).join(Author).where(Author.name == "Lem")))
