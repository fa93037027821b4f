// Progressive enhancement only: every page and form works without this file.
import { initAll } from "/static/vendor/govuk-frontend/dist/govuk/govuk-frontend.min.js";
import { initMaps } from "/static/web/maps.js";

initAll();
initMaps();
