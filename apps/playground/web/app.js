// Placeholder (the server helper's); the web helper's app.js replaces it.
