import io
from dotenv import dotenv_values
env = dotenv_values(stream=io.StringIO("""# settings
API_URL=https://api.example/v1
TOKEN='abc 123'
export DEBUG=true
EMPTY=
MULTI="line one
line two"
URL2=${API_URL}/items
"""))
print(dict(env))
