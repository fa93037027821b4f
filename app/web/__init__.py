"""The web application practitioners use: server-rendered pages in GOV.UK Frontend (DESIGN.md, "The web
application"). Routes here speak HTML; they call the same repositories and write paths as the JSON API."""
