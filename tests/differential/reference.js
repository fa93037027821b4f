// Evaluates opening_hours values with the reference implementation (opening_hours.js) for
// tests/differential/test_opening_hours_reference.py. One process answers a whole batch:
// stdin  {"values": [...], "instants": [ISO-8601 UTC...], "mode": 0}
// stdout [{"error": str|null, "warnings": [str], "states": [[open, unknown, comment|null], ...]}]
// Location: central London with an England address, so the reference applies its gb/England holidays.
'use strict';
process.env.TZ = 'Europe/London';
const OpeningHours = require('opening_hours');

const NOMINATIM = {lat: '51.5074', lon: '-0.1278', address: {country_code: 'gb', state: 'England'}};

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const request = JSON.parse(input);
  const instants = request.instants.map((text) => new Date(text));
  const answers = request.values.map((value) => {
    let parsed;
    try {
      parsed = new OpeningHours(value, NOMINATIM, {mode: request.mode || 0, tag_key: 'opening_hours', locale: 'en'});
    } catch (error) {
      return {error: String(error), warnings: [], states: []};
    }
    const warnings = parsed.getWarnings();
    const states = [];
    try {
      for (const at of instants) {
        const comment = parsed.getComment(at);
        states.push([parsed.getState(at), parsed.getUnknown(at), comment === undefined ? null : comment]);
      }
    } catch (error) {
      return {error: 'evaluation: ' + String(error), warnings, states: []};
    }
    return {error: null, warnings, states};
  });
  process.stdout.write(JSON.stringify(answers));
});
