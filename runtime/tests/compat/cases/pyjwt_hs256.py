import jwt
token = jwt.encode({"sub": "ada", "iat": 1700000000, "exp": 4102444800, "role": "admin"}, "a-secret-key-of-at-least-32-bytes!", algorithm="HS256")
print(token)
print(jwt.decode(token, "a-secret-key-of-at-least-32-bytes!", algorithms=["HS256"]))
print(jwt.get_unverified_header(token))
for key, kw in [("a-wrong-key-which-is-also-32-bytes-long", {}), ("a-secret-key-of-at-least-32-bytes!", {"audience": "x"})]:
    try:
        jwt.decode(token, key, algorithms=["HS256"], **kw)
    except jwt.PyJWTError as e:
        print(type(e).__name__, e)
expired = jwt.encode({"exp": 1}, "another-key-of-at-least-32-bytes", algorithm="HS256")
try:
    jwt.decode(expired, "another-key-of-at-least-32-bytes", algorithms=["HS256"])
except jwt.ExpiredSignatureError as e:
    print("expired:", e)
