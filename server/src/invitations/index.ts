/** Invitations by email (docs/invitations.md). */
export { invitationRoutes } from './routes.js';
export { InvitationService, type InvitationView } from './service.js';
export { InvitationStore } from './store.js';
