import boto3
from botocore.config import Config
from urllib.parse import urlparse, parse_qs
s3 = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="AKIDEXAMPLE",
                  aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                  config=Config(signature_version="s3v4"))
url = s3.generate_presigned_url("get_object", Params={"Bucket": "my-bucket", "Key": "reports/2025.csv"}, ExpiresIn=600)
u = urlparse(url)
q = parse_qs(u.query)
print(u.scheme, u.netloc, u.path)
print(sorted(q), q["X-Amz-Expires"], q["X-Amz-Credential"][0].split("/")[0], len(q["X-Amz-Signature"][0]))
print(s3.meta.region_name, s3.meta.service_model.service_name, "PutObject" in s3.meta.service_model.operation_names)
