// The pair page's only script: a code that came with the link (the extension's "Open the pair
// page") is looked up at once, so the person lands on the confirmation with the device's phrase
// without an extra click. Approving still takes a click there. Without script, Continue does it.
document.querySelector('form#pair-lookup[data-auto]')?.requestSubmit();
