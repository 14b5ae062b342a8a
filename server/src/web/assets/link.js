// Pages opened from an emailed link (invitation, password reset, email confirmation). The link
// carries its token in the fragment, which browsers never send: no server, proxy or referrer
// log sees it. This script moves it into the page's form, removes it from the address bar and
// history, and sends the form when nothing else needs filling in.
const form = document.querySelector('form[data-link-form]');
const token = window.location.hash.slice(1);
if (form && token) {
  const field = form.querySelector('input[name="token"]');
  if (field) field.value = token;
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
  if (form.dataset.linkForm !== 'wait') form.requestSubmit();
}
