import boto3
from botocore.stub import Stubber
from botocore.exceptions import ClientError
ddb = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
stub = Stubber(ddb)
stub.add_response("get_item", {"Item": {"id": {"S": "7"}, "n": {"N": "3"}}},
                  {"TableName": "t", "Key": {"id": {"S": "7"}}})
stub.add_client_error("put_item", service_error_code="ConditionalCheckFailedException", http_status_code=400)
with stub:
    print(ddb.get_item(TableName="t", Key={"id": {"S": "7"}})["Item"])
    try:
        ddb.put_item(TableName="t", Item={"id": {"S": "7"}})
    except ClientError as e:
        print(e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
from boto3.dynamodb.types import TypeDeserializer
print(TypeDeserializer().deserialize({"M": {"a": {"N": "1.5"}, "b": {"SS": ["x"]}}}))
