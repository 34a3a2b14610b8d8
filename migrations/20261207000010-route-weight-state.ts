import { Migration } from '@mikro-orm/migrations';

/**
 * A route carries how the router serves it (issue 15): its weight (HAProxy's 0-256; 100 by default, so weights read
 * as shares) and its state: `ready` takes its share, `drain` finishes what it has and gets nothing new, `maint` gets
 * nothing. Existing routes stay as they were served: ready, weight 100.
 */
export default class RouteWeightState extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table routes
      add column weight int not null default 100 check (weight between 0 and 256),
      add column state varchar(5) not null default 'ready' check (state in ('ready', 'drain', 'maint'))`);
  }
}
