export default defineBackground(() => {
  // Pairing, token refresh and messaging arrive with the extension issue (#5).
});
