// GOV.UK Frontend's components style themselves for JavaScript only when the body says it is there
// (a file, not an inline script, so the Content Security Policy stays 'self').
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
