from faker import Faker
Faker.seed(1234)
fake = Faker(["en_US"])
print(fake.name(), "|", fake.email(), "|", fake.city())
print(fake.date_between(start_date="-30y", end_date="-1y").isoformat() < "2100")
print(fake.pyint(0, 100), fake.uuid4(), fake.bothify("??-####"))
fr = Faker("fr_FR")
fr.seed_instance(7)
print(fr.name(), "|", fr.postcode())
