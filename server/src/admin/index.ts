/** Central account control: admins and operators stop or restore accounts everywhere at once. */
export { adminConsoleRoutes } from './console/index.js';
export { UserDeletion } from './deletion.js';
export { adminRoutes } from './routes.js';
export { AdminService } from './service.js';
