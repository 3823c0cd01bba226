function wanggeEditor(cfg) { "use strict"; }
