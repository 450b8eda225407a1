"""The exception classes of `requests`, so `except requests.exceptions.X` works."""


class RequestException(IOError):
    def __init__(self, *args, response=None, **kwargs):
        super().__init__(*args)
        self.response = response


class HTTPError(RequestException):
    pass


class ConnectionError(RequestException):
    pass


class Timeout(RequestException):
    pass


ReadTimeout = ConnectTimeout = Timeout


class TooManyRedirects(RequestException):
    pass


class JSONDecodeError(RequestException, ValueError):
    pass
