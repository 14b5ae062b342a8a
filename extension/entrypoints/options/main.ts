import '../../src/ui/theme.css';
import { mountOptions } from '../../src/options/options.js';

const root = document.getElementById('options');
if (root) mountOptions(root);
