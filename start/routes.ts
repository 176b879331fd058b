/*
|--------------------------------------------------------------------------
| Routes
|--------------------------------------------------------------------------
|
| One file per area.
|
*/
import '#start/routes/web'
import '#start/routes/admin'
import '#start/routes/health'
import '#start/routes/terminal_api'
import '#start/routes/docs'
