import { Migration } from '@mikro-orm/migrations';

export class Migration20261121202251_seat_reservations extends Migration {

  override name = 'Migration20261121202251_seat_reservations';

  override up(): void | Promise<void> {
    this.addSql(`create table "concerts" ("id" serial primary key, "title" varchar(200) not null, "artist" varchar(200) not null, "venue" varchar(200) not null);`);

    this.addSql(`create table "performances" ("id" serial primary key, "concert_id" int not null, "starts_at" timestamptz not null);`);
    this.addSql(`create index "performances_concert_id_index" on "performances" ("concert_id");`);

    this.addSql(`create table "reservations" ("id" uuid not null, "user_id" int not null, "performance_id" int not null, "seat_ids" jsonb not null, "status" text not null, "total_won" int not null, "hold_expires_at" timestamptz not null, "reason" varchar(64) null, "message" text null, "workflow_id" varchar(200) not null, "request_hash" varchar(64) not null, "seats_released_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "confirmed_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "reservations_user_id_index" on "reservations" ("user_id");`);
    this.addSql(`create index "reservations_performance_id_index" on "reservations" ("performance_id");`);
    this.addSql(`create index "reservations_status_index" on "reservations" ("status");`);
    this.addSql(`alter table "reservations" add constraint "reservations_workflow_id_unique" unique ("workflow_id");`);

    this.addSql(`create table "seats" ("id" serial primary key, "performance_id" int not null, "section" varchar(20) not null, "number" int not null, "price_won" int not null, "status" text not null, "reservation_id" uuid null, "hold_expires_at" timestamptz null);`);
    this.addSql(`create index "seats_performance_id_index" on "seats" ("performance_id");`);
    this.addSql(`create index "seats_status_index" on "seats" ("status");`);
    this.addSql(`create index "seats_reservation_id_index" on "seats" ("reservation_id");`);
    this.addSql(`alter table "seats" add constraint "seats_performance_label_unique" unique ("performance_id", "section", "number");`);

    this.addSql(`alter table "performances" add constraint "performances_concert_id_foreign" foreign key ("concert_id") references "concerts" ("id");`);

    this.addSql(`alter table "reservations" add constraint "reservations_user_id_foreign" foreign key ("user_id") references "app_users" ("id");`);
    this.addSql(`alter table "reservations" add constraint "reservations_performance_id_foreign" foreign key ("performance_id") references "performances" ("id");`);
    this.addSql(`alter table "reservations" add constraint "reservations_status_check" check ("status" in ('PENDING', 'CONFIRMED', 'CANCELLED', 'EXPIRED', 'COMPENSATION_FAILED'));`);

    this.addSql(`alter table "seats" add constraint "seats_performance_id_foreign" foreign key ("performance_id") references "performances" ("id");`);
    this.addSql(`alter table "seats" add constraint "seats_holder_consistent" check ((status = 'AVAILABLE' and reservation_id is null and hold_expires_at is null) or (status = 'HELD' and reservation_id is not null and hold_expires_at is not null) or (status = 'RESERVED' and reservation_id is not null));`);
    this.addSql(`alter table "seats" add constraint "seats_status_check" check ("status" in ('AVAILABLE', 'HELD', 'RESERVED'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "performances" drop constraint "performances_concert_id_foreign";`);
    this.addSql(`alter table "reservations" drop constraint "reservations_performance_id_foreign";`);
    this.addSql(`alter table "seats" drop constraint "seats_performance_id_foreign";`);

    this.addSql(`drop table if exists "concerts" cascade;`);
    this.addSql(`drop table if exists "performances" cascade;`);
    this.addSql(`drop table if exists "reservations" cascade;`);
    this.addSql(`drop table if exists "seats" cascade;`);
  }

}
