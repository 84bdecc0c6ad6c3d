"""The benchmark baseline: a bare bottle app on waitress returning one constant Response document."""

import sys

import bottle
from waitress import serve

BODY = (b'<?xml version="1.0"?><Response xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        b'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><Code>200</Code>'
        b'<Message>Command successfully executed</Message></Response>')

app = bottle.Bottle()


@app.route("/api")
def api():
    bottle.response.content_type = "application/xml; charset=utf-8"
    return BODY


if __name__ == "__main__":
    serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=int(sys.argv[2]), _quiet=True)
