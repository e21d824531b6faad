"""The comparison in bench/run: the app of Authgear's "Python Flask App" guide, rebuilt from the
guide's description, with Authlib, the whole token set in Flask's signed session cookie, and
the access token refreshed when it has expired. Run by bench/measure.mjs under gunicorn with 2
workers; not part of the Rust app.

Configuration as in the guide (AUTHGEAR_CLIENT_ID, AUTHGEAR_CLIENT_SECRET, AUTHGEAR_DOMAIN,
APP_SECRET_KEY). AUTHGEAR_DOMAIN may carry a scheme, as the Rust app's does, for the local
provider on http://127.0.0.1.
"""

import json
import time
from os import environ as env
from urllib.parse import urlencode

from authlib.integrations.flask_client import OAuth
from flask import Flask, redirect, render_template, session, url_for

domain = env["AUTHGEAR_DOMAIN"]
issuer = domain if domain.startswith(("http://", "https://")) else f"https://{domain}"

app = Flask(__name__)
app.secret_key = env["APP_SECRET_KEY"]

oauth = OAuth(app)
oauth.register(
    "authgear",
    client_id=env["AUTHGEAR_CLIENT_ID"],
    client_secret=env["AUTHGEAR_CLIENT_SECRET"],
    server_metadata_url=f"{issuer}/.well-known/openid-configuration",
    client_kwargs={
        "scope": "openid offline_access",
        # Older Authgear releases accept only this from a confidential client, as does the
        # local provider.
        "token_endpoint_auth_method": "client_secret_post",
    },
)


def fresh_token(token):
    """The token set, refreshed first if its access token has expired."""
    if token.get("expires_at", 0) > time.time() or not token.get("refresh_token"):
        return token
    refreshed = oauth.authgear.fetch_access_token(
        grant_type="refresh_token", refresh_token=token["refresh_token"]
    )
    token = {**token, **refreshed}
    session["user"] = token
    return token


@app.route("/")
def home():
    token = session.get("user")
    if token:
        token = fresh_token(token)
    return render_template(
        "home.html", user=token, pretty=json.dumps(token, indent=4) if token else ""
    )


@app.route("/login")
def login():
    return oauth.authgear.authorize_redirect(redirect_uri=url_for("callback", _external=True))


@app.route("/callback")
def callback():
    session["user"] = oauth.authgear.authorize_access_token()
    return redirect("/")


@app.route("/logout")
def logout():
    token = session.get("user") or {}
    session.clear()
    end_session = oauth.authgear.load_server_metadata().get("end_session_endpoint")
    if not end_session:
        return redirect("/")
    query = {"post_logout_redirect_uri": url_for("home", _external=True)}
    if token.get("id_token"):
        query["id_token_hint"] = token["id_token"]
    return redirect(f"{end_session}?{urlencode(query)}")
