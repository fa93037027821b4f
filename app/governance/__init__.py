"""What an information governance team needs before go-live, generated from the code so it cannot drift.

``inventory`` describes every table and column the migrations create (UK GDPR Art. 30 records of
processing); ``schema`` reads the live schema, row-level-security policies and grants and renders the
data inventory; ``accessibility`` turns the browser tests' axe results into the accessibility statement;
``documents`` renders the Markdown documents in ``docs/`` for the web pages.
"""
