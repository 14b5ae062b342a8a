import '../../src/ui/theme.css';
import { mountPopup } from '../../src/popup/app.js';

const app = document.getElementById('app');
if (app) mountPopup(app);
