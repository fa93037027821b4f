// Evaluates opening_hours values with the reference implementation (opening_hours.js) for
// tests/differential/test_opening_hours_reference.py. One process answers a whole batch:
// stdin  {"values": [...], "instants": [ISO-8601 UTC, ascending], "mode": 0}
// stdout [{"error": str|null, "warnings": [str], "states": [[open, unknown, comment|null], ...]}]
//
// States come from the reference's iterator (getIterator/advance), the interface its own test suite
// checks (getOpenIntervals): the state between two changes is the one evaluated at the change.
// getState(at) re-evaluates in the middle of an interval, where its open-end rule ("07:00+,12:00-16:00")
// contradicts the test suite: it reports "14:00-17:00+" closed at 17:30, the suite expects unknown.
// Location: central London with an England address, so the reference applies its gb/England holidays.
'use strict';
process.env.TZ = 'Europe/London';
const OpeningHours = require('opening_hours');

const NOMINATIM = {lat: '51.5074', lon: '-0.1278', address: {country_code: 'gb', state: 'England'}};
const DAY_MS = 24 * 60 * 60 * 1000;

function localMidnightBefore(at) {
  const start = new Date(at.getTime() - DAY_MS);
  start.setHours(0, 0, 0, 0);
  return start;
}

function statesAt(parsed, instants) {
  const iterator = parsed.getIterator(localMidnightBefore(instants[0]));
  return instants.map((at) => {
    // Instants far apart: start again from the midnight before rather than walk every change between.
    if (at.getTime() - iterator.getDate().getTime() > 2 * DAY_MS) {
      iterator.setDate(localMidnightBefore(at));
    }
    // Move to the last change at or before `at` (advance stops before its limit).
    while (iterator.advance(new Date(at.getTime() + 1))) { /* next change */ }
    const comment = iterator.getComment();
    return [iterator.getState(), iterator.getUnknown(), comment === undefined ? null : comment];
  });
}

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
    try {
      return {error: null, warnings, states: statesAt(parsed, instants)};
    } catch (error) {
      return {error: 'evaluation: ' + String(error), warnings, states: []};
    }
  });
  process.stdout.write(JSON.stringify(answers));
});
