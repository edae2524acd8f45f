// Entry point: <script type="module" src="https://ASSIST-HOST/widget/assist-sidebar.js"></script>
// registers <assist-sidebar>. See widget/README.md for attributes, events and methods.

import { AssistSidebar } from './src/sidebar.js';

AssistSidebar.define();

export { AssistSidebar };
export { backoffDelay } from './src/connection.js';
export { fillTemplate } from './src/view.js';
